from helpers.service.cli import main

main()
