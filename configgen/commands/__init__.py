"""One module per sub-command: add_arguments(parser) and run(args) -> exit code.

A command parses its arguments, reads its input through configgen/readers.py, calls the
stages it needs and prints their result through report/ (text, JSON, Markdown, and
report/progress.py while it waits). It may import any stage, report/ and configgen.arguments
(what several commands read alike), never another command: configgen/cli.py imports only
the one that runs, so keep add_arguments cheap and load what only run() needs inside run().
"""
