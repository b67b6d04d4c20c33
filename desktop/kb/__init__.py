"""The knowledge base's pure core: the words an article is found by, its safe HTML, its pages.

- :mod:`.terms`: text to search terms, the same for what is indexed and what is asked
  (words, and character bigrams of Chinese and other unspaced scripts);
- :mod:`.markdown`: an article's Markdown to sanitised HTML (links only http, https, mailto);
- :mod:`.pages`: the site pages an article belongs to, as URL patterns.

Nothing here touches the database, a socket or the clock.
"""
