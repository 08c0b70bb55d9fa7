"""Output layers: findings of the advisor as terminal text or Markdown. No work happens here.

text.py and markdown.py turn result objects into lines. They may import the types they
render (advise/, kb.model, probe.names); verify's and footprint's result types are imported
for annotations only (they live beside the code that runs compilers: known debt, listed in
pyproject.toml's contracts), so printing never loads the builders.
"""
