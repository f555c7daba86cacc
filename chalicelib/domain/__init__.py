"""Pure rules: no boto3, no clock, no environment. Everything here is a function of plain values."""
