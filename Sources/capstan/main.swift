import CapstanCLI

await Application.main()
