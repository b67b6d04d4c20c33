"""What an admin sets for the whole contact centre in the console (issue 14): urgent words per
language, the widget's look and the sites that may embed it. ``config`` is the pure part
(defaults, checks); ``desktop/leader/live_centre.py`` keeps every process's copy current."""
