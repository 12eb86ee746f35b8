import { launch, openPage, serve, screenshotPath } from './helpers.mjs';
const { server, base } = await serve();
const browser = await launch();
const { page } = await openPage(browser, base, '/lab/dev.html?exercise=train-cnn', { width: 360, height: 800 });
await page.waitForTimeout(500);
await page.locator('.layer-builder').screenshot({ path: screenshotPath('dbg-builder.png') });
await page.locator('.train-panel').screenshot({ path: screenshotPath('dbg-panel.png') });
await browser.close(); server.close();
