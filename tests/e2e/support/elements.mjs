// What a person does with a page's elements, the same in every engine: the element powers
// of engines.mjs's pages, over Playwright locators (Chromium) or WebDriver elements
// (Firefox, WebKit).
import { writeFile } from "node:fs/promises";

/** How long one step (a wait for an element, a load) may take. */
export const STEP_TIMEOUT = 15_000;

/**
 * What a person does with a page's elements, the same in every engine: `selector` is CSS,
 * `where` = {hasText (a substring of the element's textContent), nth (0-based, among the
 * matches), frame (CSS of an iframe of the page to look in)}. As with Playwright locators,
 * an action needs exactly one match (or `nth`) and waits until it is visible; clicks, typing
 * and keys are real input (Playwright's, or WebDriver's element click and send keys), never
 * element.click() from a script. Reads do not wait.
 */
export function elementPowers(engineName, ops) {
  const describe = (selector, where) =>
    `${selector}${where.hasText !== undefined ? ` with text ${JSON.stringify(where.hasText)}` : ""}${where.nth !== undefined ? ` #${where.nth}` : ""}${where.frame ? ` in ${where.frame}` : ""}`;
  const powers = {
    /**
     * Waits until `selector` is `state`: "visible" (the default), "attached", "hidden"
     * (absent or not visible) or "detached" (absent).
     */
    async waitFor(selector, { state = "visible", timeout = STEP_TIMEOUT, ...where } = {}) {
      const deadline = Date.now() + timeout;
      let last = "";
      for (;;) {
        try {
          const n = await ops.count(selector, where);
          const visible = n > 0 && (state === "visible" || state === "hidden") ? await ops.visible(selector, { ...where, nth: where.nth ?? 0 }) : false;
          if (state === "attached" ? n > 0 : state === "detached" ? n === 0 : state === "visible" ? visible : !visible) return;
          last = `${n} match(es)${n ? `, visible: ${visible}` : ""}`;
        } catch (e) {
          last = String(e?.message ?? e).split("\n")[0];
        }
        if (Date.now() > deadline) throw new Error(`${engineName}: ${describe(selector, where)} not ${state} after ${timeout} ms (${last})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /** A click on the element, as a person's (scrolled into view, at its centre). */
    async click(selector, where = {}) {
      await powers.waitFor(selector, where);
      await ops.act("click", selector, where);
    },
    /** Empties the field, then types `text` into it. */
    async fill(selector, text, where = {}) {
      await powers.waitFor(selector, where);
      await ops.act("fill", selector, where, text);
    },
    /** Presses a key (a WebDriver/Playwright name: "Enter", "Tab", "Escape") in the element. */
    async press(selector, key, where = {}) {
      await powers.waitFor(selector, where);
      await ops.act("press", selector, where, key);
    },
    /** The element's textContent (exactly one match, or `nth`). */
    text: (selector, where = {}) => ops.read("text", selector, where),
    /** Every match's textContent, in document order. */
    texts: (selector, where = {}) => ops.texts(selector, where),
    /** An attribute of the element as the markup has it, or null. */
    attribute: (selector, name, where = {}) => ops.read("attribute", selector, where, name),
    count: (selector, where = {}) => ops.count(selector, where),
    /** Whether the first match (or `nth`) is shown; false when nothing matches. */
    isVisible: (selector, where = {}) => ops.visible(selector, { ...where, nth: where.nth ?? 0 }),
    /** A PNG of the viewport, written to `path`. */
    screenshot: (path) => ops.screenshot(path),
  };
  return powers;
}

/** Playwright locators for `elementPowers`. */
export function playwrightElements(p) {
  const locate = (selector, { hasText, nth, frame } = {}) => {
    let l = (frame ? p.frameLocator(frame) : p).locator(selector, hasText !== undefined ? { hasText } : undefined);
    if (nth !== undefined) l = l.nth(nth);
    return l;
  };
  return {
    count: (selector, where) => locate(selector, where).count(),
    visible: (selector, where) => locate(selector, where).isVisible(),
    texts: (selector, where) => locate(selector, where).allTextContents(),
    async read(what, selector, where, name) {
      const l = locate(selector, where);
      return what === "text" ? l.textContent({ timeout: 1_000 }) : l.getAttribute(name, { timeout: 1_000 });
    },
    async act(what, selector, where, value) {
      const l = locate(selector, where);
      if (what === "click") await l.click();
      else if (what === "fill") await l.fill(value);
      else await l.press(value);
    },
    screenshot: (path) => p.screenshot({ path }),
  };
}

/**
 * WebDriver elements for `elementPowers`: findElements, then the element's click, clear and
 * send keys (W3C element interaction: the driver scrolls it into view and dispatches real
 * input). Each operation is tried again while the page re-renders (a stale element) or
 * something covers the element for a moment, as Playwright's locators do.
 */
export function seleniumElements(engineName, driver, use, inTurn) {
  const webdriver = import("selenium-webdriver");
  /** Runs `fn` in the page's tab (in its turn), inside the iframe `frame` when given. */
  function within(frame, fn) {
    return inTurn(async () => {
      await use();
      if (!frame) return fn();
      const { By } = await webdriver;
      await driver.switchTo().frame(await driver.findElement(By.css(frame)));
      try {
        return await fn();
      } finally {
        await driver.switchTo().defaultContent();
      }
    });
  }
  const textOf = (el) => driver.executeScript("return arguments[0].textContent", el);
  async function all(selector, hasText) {
    const { By } = await webdriver;
    const found = await driver.findElements(By.css(selector));
    if (hasText === undefined) return found;
    const kept = [];
    for (const el of found) if ((await textOf(el)).includes(hasText)) kept.push(el);
    return kept;
  }
  async function one(selector, { hasText, nth }) {
    const found = await all(selector, hasText);
    if (nth !== undefined) {
      if (!found[nth]) throw new Error(`${engineName}: ${selector}: no match #${nth} (${found.length} matches)`);
      return found[nth];
    }
    if (found.length !== 1) throw new Error(`${engineName}: ${selector}: ${found.length} matches, one expected`);
    return found[0];
  }
  const TRANSIENT = ["StaleElementReferenceError", "ElementClickInterceptedError", "ElementNotInteractableError"];
  /** `fn` again while it fails for a moment (the element was re-rendered, or covered). */
  async function retrying(fn) {
    const deadline = Date.now() + STEP_TIMEOUT;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (!TRANSIENT.includes(e?.name) || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  return {
    count: (selector, { hasText, frame } = {}) => retrying(() => within(frame, async () => (await all(selector, hasText)).length)),
    visible: (selector, where) =>
      retrying(() =>
        within(where.frame, async () => {
          const el = (await all(selector, where.hasText))[where.nth ?? 0];
          return el ? el.isDisplayed() : false;
        }),
      ),
    texts: (selector, { hasText, frame } = {}) =>
      retrying(() => within(frame, async () => Promise.all((await all(selector, hasText)).map(textOf)))),
    read: (what, selector, where, name) =>
      retrying(() =>
        within(where.frame, async () => {
          const el = await one(selector, where);
          return what === "text" ? textOf(el) : el.getDomAttribute(name);
        }),
      ),
    async act(what, selector, where, value) {
      const { Key } = await webdriver;
      return retrying(() =>
        within(where.frame, async () => {
          const el = await one(selector, where);
          if (what === "click") await el.click();
          else if (what === "fill") {
            await el.clear();
            if (value !== "") await el.sendKeys(value);
          } else {
            const key = Key[String(value).toUpperCase()];
            if (!key) throw new Error(`${engineName}: press: unknown key ${value}`);
            await el.sendKeys(key);
          }
        }),
      );
    },
    async screenshot(path) {
      const png = await inTurn(async () => {
        await use();
        return driver.takeScreenshot();
      });
      await writeFile(path, Buffer.from(png, "base64"));
    },
  };
}
