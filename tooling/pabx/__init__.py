"""pabx: configuration-as-code for a multi-tenant hosted PBX (Asterisk) sold in Brazil."""

__version__ = "0.1.0"
