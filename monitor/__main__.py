from monitor import terminal
from monitor.cli import main

terminal.run(main)
