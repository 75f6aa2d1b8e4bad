"""Checks a page as WCAG 2.2 AA asks: touch targets and text contrast, measured in the browser."""

from __future__ import annotations

TARGETS = """
(minimum) => [...document.querySelectorAll("a[href], button, input:not([type=hidden]), select")]
  .filter((element) => element.getClientRects().length)
  .map((element) => [element, element.getBoundingClientRect()])
  .filter(([, box]) => box.width < minimum || box.height < minimum)
  .map(([element, box]) => {
    const name = element.innerText || element.value || element.getAttribute("aria-label");
    const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
    return `${element.tagName.toLowerCase()} "${name}" ${size}`;
  })
"""

CONTRAST = """
() => {
  const channels = (color) => color.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = (c) => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const [r, g, b, a = 1] = channels(getComputedStyle(node).backgroundColor);
      if (a > 0) return [r, g, b];
    }
    return [255, 255, 255];
  };
  const problems = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const element = walker.currentNode.parentElement;
    if (!text || !element.getClientRects().length) continue;
    const style = getComputedStyle(element);
    if (style.visibility === "hidden" || element.closest(".visually-hidden")) continue;
    const [l1, l2] = [luminance(channels(style.color)), luminance(background(element))];
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const large = parseFloat(style.fontSize) >= 24
      || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) problems.push(`"${text.slice(0, 40)}" ${ratio.toFixed(2)}:1`);
  }
  return problems;
}
"""


def small_targets(page, minimum: int = 48) -> list[str]:
    """Links, buttons and fields smaller than minimum × minimum CSS pixels."""
    return page.evaluate(TARGETS, minimum)


def low_contrast(page) -> list[str]:
    """Visible text below 4.5:1 (3:1 for large text) against its background."""
    return page.evaluate(CONTRAST)
