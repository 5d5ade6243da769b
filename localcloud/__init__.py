"""The local cloud: moto's server on loopback plus the parts of AWS this project needs for real."""
