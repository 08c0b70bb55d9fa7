"""Output layers: findings of the advisor as terminal text or Markdown. No work happens here."""
