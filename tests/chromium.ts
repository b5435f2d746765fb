/**
 * Headless Chromium driven over the DevTools protocol (a WebSocket; no library), for tests
 * that open a page for real: evaluate expressions in it and take screenshots.
 *
 * @module
 */

/** The Chromium binary, or null when there is none (tests then skip). */
export function chromiumPath(): string | null {
  for (const p of ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  return null;
}

/** A page open in headless Chromium. */
export interface ChromiumPage {
  /** Evaluates an expression in the page (promises awaited) and returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Saves a PNG screenshot of the whole page. */
  screenshot(path: string): Promise<void>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with a fresh profile and opens `url`, waiting for its load event.
 *
 * @param binary The Chromium binary.
 * @param url The page.
 * @returns The page.
 */
export async function openInChromium(binary: string, url: string): Promise<ChromiumPage> {
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  const child = new Deno.Command(binary, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "--window-size=1200,900",
      "about:blank",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // the browser's WebSocket address is printed on stderr
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "", wsUrl = "";
  const deadline = Date.now() + 30000;
  while (!wsUrl) {
    if (Date.now() > deadline) throw new Error(`chromium did not start: ${text}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`chromium exited: ${text}`);
    text += value;
    wsUrl = text.match(/DevTools listening on (ws:\/\/\S+)/)?.[1] ?? "";
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const ws = new WebSocket(wsUrl);
  await new Promise((ok, fail) => {
    ws.onopen = ok;
    ws.onerror = fail;
  });
  let nextId = 1;
  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  const events: { method: string; sessionId?: string }[] = [];
  const waiters: (() => void)[] = [];
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id !== undefined) {
      const p = pending.get(msg.id)!;
      pending.delete(msg.id);
      if (msg.error) p.fail(new Error(JSON.stringify(msg.error)));
      else p.ok(msg.result);
    } else {
      events.push(msg);
      waiters.splice(0).forEach((w) => w());
    }
  };
  const send = <T>(method: string, params: unknown = {}, sessionId?: string): Promise<T> =>
    new Promise((ok, fail) => {
      const id = nextId++;
      pending.set(id, { ok: ok as (v: unknown) => void, fail });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  const { targetId } = await send<{ targetId: string }>("Target.createTarget", {
    url: "about:blank",
  });
  const { sessionId } = await send<{ sessionId: string }>("Target.attachToTarget", {
    targetId,
    flatten: true,
  });
  await send("Page.enable", {}, sessionId);
  await send("Page.navigate", { url }, sessionId);
  const loadDeadline = Date.now() + 30000;
  while (!events.some((e) => e.method === "Page.loadEventFired" && e.sessionId === sessionId)) {
    if (Date.now() > loadDeadline) throw new Error(`${url} did not load`);
    await new Promise<void>((r) => {
      waiters.push(r);
      setTimeout(r, 500);
    });
  }
  return {
    async evaluate<T>(expression: string): Promise<T> {
      const r = await send<{ result: { value: T }; exceptionDetails?: unknown }>(
        "Runtime.evaluate",
        { expression, awaitPromise: true, returnByValue: true },
        sessionId,
      );
      if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails));
      return r.result.value;
    },
    async screenshot(path: string): Promise<void> {
      const { data } = await send<{ data: string }>(
        "Page.captureScreenshot",
        { format: "png", captureBeyondViewport: true },
        sessionId,
      );
      await Deno.writeFile(path, Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
    },
    async close(): Promise<void> {
      try {
        await send("Browser.close");
      } catch { /* already gone */ }
      ws.close();
      try {
        child.kill();
      } catch { /* exited */ }
      await child.status;
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
