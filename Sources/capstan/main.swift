import CapstanCLI
await CapstanCommand.main()
