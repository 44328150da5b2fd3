"""Hostile values for settings and data, to see that pages escape what they show."""

#: Values with markup, to see that the pages escape what comes from the settings.
HOSTILE_PHONE = "080-000-0000 <b id=x>\"'&"
HOSTILE_PRIVACY_URL = 'http://127.0.0.1:8501/privacy?a=1&b="><script>window.pwned=1</script>'
