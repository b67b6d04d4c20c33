"""The demo: a shop that embeds the widget and the accounts and customers it is seeded with. Only the app and `otodesk demo` import it."""
