"""A contact as the desk shows it (the card) and as the law lets a customer erase it (privacy)."""
