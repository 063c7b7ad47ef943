import { chromium } from '@playwright/test';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const errors = [];
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
page.on('pageerror', (e) => errors.push(String(e)));
const base = process.env.BASE ?? 'http://localhost:3000';
await page.goto(base + '/sign-in');
await page.screenshot({ path: '/tmp/shots/signin.png' });
await page.fill('#email', process.env.EMAIL ?? 'operator@fleetplane.local');
await page.fill('#password', process.env.PASSWORD ?? 'fleetplane-demo');
await page.click('button[type=submit]');
await page.waitForURL(base + '/');
await page.waitForTimeout(1500);
await page.screenshot({ path: '/tmp/shots/overview.png', fullPage: true });
for (const p of (process.env.PAGES ?? '/clusters').split(',')) {
  await page.goto(base + p);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `/tmp/shots/${p.replace(/\//g, '_') || 'root'}.png`, fullPage: true });
}
console.log('errors:', JSON.stringify(errors, null, 1));
await browser.close();
