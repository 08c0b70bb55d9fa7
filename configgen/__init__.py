"""configgen: the mbedTLS options an embedded TLS client needs, derived from the server and
its certificates, written as a config header with a reason for every line."""

__version__ = "0.1.0"
