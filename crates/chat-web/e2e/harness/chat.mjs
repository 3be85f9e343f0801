// What a person does on the page, by role and label (as a screen reader
// would find it), waiting with Playwright's own waits: no fixed sleeps.

export const PATIENCE = 15_000;

export async function signIn(page, url, username, password) {
  await page.goto(url);
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator("#me").filter({ hasText: username }).waitFor({ timeout: PATIENCE });
  await page.locator("#room-title").filter({ hasText: "#general" }).waitFor({ timeout: PATIENCE });
}

export async function register(page, url, username, password) {
  await page.goto(url);
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Register" }).click();
  await page.locator("#me").filter({ hasText: username }).waitFor({ timeout: PATIENCE });
}

export async function openRoom(page, name) {
  const existing = page.locator(`nav li[data-room="${name.toLowerCase()}"] button`);
  if (await existing.count()) {
    await existing.click();
  } else {
    await page.getByLabel("New room name").fill(name);
    await page.getByRole("button", { name: "Create" }).click();
  }
  await page.locator("#room-title").filter({ hasText: `#${name}` }).waitFor({ timeout: PATIENCE });
}

export async function send(page, text) {
  await page.getByLabel("Message", { exact: true }).fill(text);
  await page.getByLabel("Message", { exact: true }).press("Enter");
}

/** Waits until a message with exactly this text is on screen. */
export async function seeMessage(page, text) {
  await page.locator("#messages li.message .text", { hasText: text }).first().waitFor({ timeout: PATIENCE });
}

/** Every message on screen: id, author, text, own. */
export async function messages(page) {
  return page.$$eval("#messages li.message", (items) =>
    items.map((li) => ({
      id: Number(li.dataset.messageId),
      author: li.dataset.author,
      text: li.querySelector(".text").textContent,
      time: li.querySelector("time")?.getAttribute("datetime"),
      own: li.classList.contains("own"),
    })),
  );
}

export async function waitForConnection(page, state) {
  await page.locator("#connection").filter({ hasText: new RegExp(`^${state}`) }).waitFor({ timeout: PATIENCE });
}
