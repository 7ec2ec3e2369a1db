from decomposer.cli import app

app(prog_name="decomposer")
