"""The model floor: every frozen type the stages pass to each other.

Facts (what the probe saw, what the certificate files hold), the profile and its board,
requirements, option sets, verdicts and findings, and the results of verify and footprint.
Modules here import the standard library, `configgen.errors` and each other: nothing that
reads a file, opens a socket or runs a program, and no third-party package. Every other
module may import them.
"""
