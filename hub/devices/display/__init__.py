"""Customer pole displays speaking the CD5220 command set (Logic Controls PD3000 and kin)."""
