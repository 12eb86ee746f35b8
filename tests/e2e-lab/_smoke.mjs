import { serve, launch, openPage, screenshotPath } from './helpers.mjs';
const { server, base } = await serve();
const browser = await launch();
const { page, problems } = await openPage(browser, base, '/lab/dev.html');
await page.waitForTimeout(1000);
await page.locator('header.lab-header').screenshot({ path: screenshotPath('smoke-header.png') });
for (const id of ['convolution','stride-padding','pooling','parameter-sharing','train-cnn','what-cnns-learn','augmentation','resnet'])
  await page.locator(`#ex-${id}`).screenshot({ path: screenshotPath(`smoke-${id}.png`) });
await browser.close(); server.close();
