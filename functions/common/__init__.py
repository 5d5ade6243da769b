"""Code shared by the three Lambda handlers; packaged into each handler's zip."""
