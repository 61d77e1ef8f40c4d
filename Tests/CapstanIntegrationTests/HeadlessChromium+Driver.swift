/// The driver ``HeadlessChromium`` runs: Python 3 with its standard library only. It starts Debian's chromium headless
/// with `--remote-debugging-pipe` (the DevTools protocol as NUL-terminated JSON on fds 3 and 4, no WebSocket), opens
/// one page, and answers one JSON command per stdin line with one JSON line on stdout:
/// `{"op":"open","url":…}` (each command names its tab with `"page"`; a new name opens a new tab),
/// `{"op":"open","url":…}`, `{"op":"eval","expr":…}`, `{"op":"wait","expr":…,"timeout":s}` (until the expression is
/// truthy), `{"op":"screenshot","path":…}`, `{"op":"quit"}`.
extension HeadlessChromium {
    static let driverSource = #"""
        import base64, fcntl, json, os, subprocess, sys, threading, time

        chromium, profile, log_path = sys.argv[1], sys.argv[2], sys.argv[3]
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        # Keep the pipe ends above the fds the child is given, so dup2 onto 3 and 4 cannot clobber them.
        def high(fd):
            moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 20)
            os.close(fd)
            return moved
        to_r, to_w, from_r, from_w = high(to_r), high(to_w), high(from_r), high(from_w)
        def child_fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)
        log = open(log_path, 'ab')
        proc = subprocess.Popen(
            [chromium, '--headless=new', '--remote-debugging-pipe', '--no-sandbox', '--disable-gpu',
             '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check', '--disable-extensions',
             '--user-data-dir=' + profile, '--window-size=1400,1600', 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=False, preexec_fn=child_fds)
        os.close(to_r)
        os.close(from_w)

        lock = threading.Condition()
        replies = {}
        next_id = [0]
        def reader():
            buffer = b''
            while True:
                chunk = os.read(from_r, 1 << 16)
                if not chunk:
                    with lock:
                        replies['closed'] = True
                        lock.notify_all()
                    return
                buffer += chunk
                while b'\0' in buffer:
                    raw, buffer = buffer.split(b'\0', 1)
                    message = json.loads(raw)
                    if 'id' in message:
                        with lock:
                            replies[message['id']] = message
                            lock.notify_all()
        threading.Thread(target=reader, daemon=True).start()

        def call(method, params=None, session=None, timeout=60):
            with lock:
                next_id[0] += 1
                ident = next_id[0]
            message = {'id': ident, 'method': method, 'params': params or {}}
            if session:
                message['sessionId'] = session
            os.write(to_w, json.dumps(message).encode() + b'\0')
            deadline = time.time() + timeout
            with lock:
                while ident not in replies:
                    if replies.get('closed'):
                        raise RuntimeError('chromium closed the DevTools pipe (see ' + log_path + ')')
                    left = deadline - time.time()
                    if left <= 0:
                        raise RuntimeError('no DevTools answer to ' + method + ' within ' + str(timeout) + 's')
                    lock.wait(left)
                reply = replies.pop(ident)
            if 'error' in reply:
                raise RuntimeError(method + ': ' + json.dumps(reply['error']))
            return reply.get('result', {})

        sessions = {}
        def page(name):
            if name not in sessions:
                # Each page in a window of its own: a background tab renders no frames to capture.
                target = call('Target.createTarget', {'url': 'about:blank', 'newWindow': True})['targetId']
                session = call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
                call('Page.enable', session=session)
                call('Runtime.enable', session=session)
                sessions[name] = session
            return sessions[name]

        def evaluate(expr, session):
            result = call('Runtime.evaluate', {'expression': expr, 'returnByValue': True, 'awaitPromise': True}, session)
            if 'exceptionDetails' in result:
                details = result['exceptionDetails']
                raise RuntimeError('script error: ' + str(details.get('exception', {}).get('description') or details.get('text')))
            return result.get('result', {}).get('value')

        def answer(value):
            sys.stdout.write(json.dumps(value) + '\n')
            sys.stdout.flush()

        for line in sys.stdin:
            command = json.loads(line)
            op = command.get('op')
            try:
                session = page(command.get('page', 'main'))
                if op == 'open':
                    call('Page.navigate', {'url': command['url']}, session)
                    deadline = time.time() + command.get('timeout', 30)
                    while evaluate('document.readyState', session) != 'complete':
                        if time.time() > deadline:
                            raise RuntimeError('the page did not finish loading')
                        time.sleep(0.1)
                    answer({'ok': True})
                elif op == 'eval':
                    answer({'ok': True, 'value': evaluate(command['expr'], session)})
                elif op == 'wait':
                    deadline = time.time() + command.get('timeout', 60)
                    value = None
                    while True:
                        value = evaluate(command['expr'], session)
                        if value:
                            answer({'ok': True, 'value': value})
                            break
                        if time.time() > deadline:
                            answer({'ok': False, 'value': value, 'error': 'timed out'})
                            break
                        time.sleep(0.2)
                elif op == 'screenshot':
                    call('Page.bringToFront', session=session)
                    data = call('Page.captureScreenshot', {'format': 'png'}, session)['data']  # the viewport: captureBeyondViewport can hang while a live page re-renders
                    with open(command['path'], 'wb') as out:
                        out.write(base64.b64decode(data))
                    answer({'ok': True})
                elif op == 'quit':
                    answer({'ok': True})
                    break
                else:
                    answer({'ok': False, 'error': 'unknown op ' + str(op)})
            except Exception as error:
                answer({'ok': False, 'error': str(error)})

        try:
            call('Browser.close', timeout=5)
        except Exception:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        """#
}
