"""Accessibility basics on every page of the console, in headless Chromium as the teacher and
the director see them: every input, select and text area has a label (or an aria-label),
every page has one h1 and `lang="sq"`, no page is wider than a 390 px phone, and the text
colours meet WCAG AA contrast (4.5:1) against what is behind them. The journey test
(test_console_browser.py) covers doing things; this covers being able to read and reach them.
"""

from __future__ import annotations

from pathlib import Path

from browser_kit import Tab, chromium, spki_hash
from console_kit import PASSWORDS, running_console

PAGES = ["/pasqyra", "/kerkesat", "/incidentet", "/incident-i-ri", "/rastet", "/raportet",
         "/listat", "/grupet", "/pse", "/vetetestimi", "/llogarite", "/auditimi"]

# The worst text contrast on the page: each element with its own text, its colour against the
# first opaque background up the tree (WCAG relative luminance).
CONTRAST = """(() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => { const v = c.slice(0, 3).map(x => { x /= 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const bg = e => { for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length && (c.length < 4 || c[3] > 0.5)) return c; } return [255, 255, 255]; };
  let worst = [99, ''];
  for (const e of document.querySelectorAll('body *')) {
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !e.getClientRects().length) continue;
    const s = getComputedStyle(e);
    if (s.visibility === 'hidden' || parseFloat(s.opacity) < 0.5) continue;
    const a = lum(rgb(s.color)), b = lum(bg(e));
    const r = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (r < worst[0]) worst = [r, e.tagName + ': ' + e.textContent.trim().slice(0, 40)];
  }
  return worst; })()"""


async def check(tab: Tab, url: str, page: str) -> None:
    text = await tab.go(f"{url}{page}")
    assert "Hyrja" not in text[:200], f"{page}: not signed in"
    assert await tab.unlabelled() == [], page
    assert await tab.eval("document.documentElement.lang") == "sq", page
    assert await tab.eval("document.querySelectorAll('h1').length") == 1, page
    ratio, where = await tab.eval(CONTRAST)
    assert ratio >= 4.5, f"{page}: contrast {ratio:.2f} at {where}"
    await tab.call("Emulation.setDeviceMetricsOverride", width=390, height=800,
                   deviceScaleFactor=1, mobile=True)
    wide = await tab.eval("document.documentElement.scrollWidth")
    await tab.call("Emulation.clearDeviceMetricsOverride")
    assert wide <= 390, f"{page}: {wide} px wide on a phone"


async def test_every_page_is_labelled_readable_and_fits_a_phone(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console, \
            chromium(spki_hash(console.ca_file)) as tab:
        for who in ("mesuesi", "drejtori"):
            await tab.call("Network.clearBrowserCookies")
            await tab.go(f"{console.url}/hyr")
            assert await tab.unlabelled() == []
            await tab.submit('form[action="/hyr"]', {"username": who,
                                                     "password": PASSWORDS[who]})
            for page in PAGES:
                if who == "drejtori" and page == "/incident-i-ri":
                    continue  # the director changes nothing: 403
                await check(tab, console.url, page)
