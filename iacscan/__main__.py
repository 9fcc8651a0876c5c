from iacscan.cli import entry

entry()
