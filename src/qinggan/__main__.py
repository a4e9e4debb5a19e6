from qinggan.cli.main import run

run()
