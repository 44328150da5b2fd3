"""Helpers shared by the test modules: plain code, no fixtures and no tests.

Fixtures live in the ``conftest.py`` files; test modules import only from here (never
from another test module or from a conftest).

* :mod:`tests.helpers.apptest` - open a page of the app in Streamlit's AppTest, open a
  lazy tab, and the charts each lazy tab draws.
* :mod:`tests.helpers.browser` - waiting for a page in a real browser (Selenium).
* :mod:`tests.helpers.bq_emulator` - start and stop the local BigQuery emulator
  (``python tests/bq_emulator.py run -- pytest`` is its command-line launcher).
* :mod:`tests.helpers.fixture_site` - local copies of the two scraped sites, served on
  127.0.0.1.
* :mod:`tests.helpers.outreach_doubles` - the demo sender, an injectable clock and a
  provider double of the outreach tests.
* :mod:`tests.helpers.reference` - pandas reference implementations the SQL and the
  pages are checked against.
* :mod:`tests.helpers.servers` - local server processes and HTTP stubs on 127.0.0.1.
* :mod:`tests.helpers.warehouses` - throw-away warehouses on the BigQuery emulator.
"""
