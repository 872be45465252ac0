"""Brazilian telephony and registry facts: DDDs, CPF/CNPJ, numbering plan, billing cadence."""
