"""The workshop and the counter's promises: repairs, custom and special orders, layaways and
appraisals, with the deposits the store holds for them."""
