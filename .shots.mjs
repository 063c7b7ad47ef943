import { chromium } from '@playwright/test';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run','--disable-quic'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
await page.goto('http://localhost:3000/sign-in');
await page.getByLabel('Email').fill('admin@fleetplane.local');
await page.getByLabel('Password').fill('admin-pass-123456');
await page.getByRole('button', { name: /sign in/i }).click();
await page.waitForURL('http://localhost:3000/');
for (const [name, path] of [['overview','/'],['alerts','/alerts'],['planner','/planner'],['cost','/cost'],['models','/models'],['clusters','/clusters']]) {
  await page.goto('http://localhost:3000' + path);
  await page.waitForTimeout(4000);
  await page.screenshot({ path: `/tmp/shots/${name}.png`, fullPage: true });
}
await browser.close();
