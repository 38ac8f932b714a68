from acterr_cli.cli.app import main

main()
