from rfloc_core.cli import main

main()
