// Plain `nvidia-smi` output (the R550-era table). Callers scrape `Driver Version:` and `CUDA Version:`.
const RULE = `+${'-'.repeat(41)}+${'-'.repeat(24)}+${'-'.repeat(22)}+`;
const WIDE = `+${'-'.repeat(89)}+`;

const row = (a, b, c) => `|${a.padEnd(41).slice(0, 41)}|${b.padStart(24).slice(-24)}|${c.padStart(22).slice(-22)}|`;
const wideRow = (text) => `|${text.padEnd(89).slice(0, 89)}|`;

export function renderTable(config, contexts, nowMs) {
  const d = new Date(nowMs);
  const when = `${d.toDateString().slice(0, 10)} ${d.toTimeString().slice(0, 8)} ${d.getFullYear()}`;
  const head = ` NVIDIA-SMI ${config.driverVersion.padEnd(22)}Driver Version: ${config.driverVersion.padEnd(15)}CUDA Version: ${config.cudaVersion}`;
  const lines = [
    `${when}       `,
    WIDE,
    wideRow(head),
    `|${'-'.repeat(41)}+${'-'.repeat(24)}+${'-'.repeat(22)}+`,
    row(' GPU  Name                 Persistence-M', 'Bus-Id          Disp.A ', 'Volatile Uncorr. ECC '),
    row(' Fan  Temp   Perf          Pwr:Usage/Cap', 'Memory-Usage ', 'GPU-Util  Compute M. '),
    row('', '', 'MIG M. '),
    `|${'='.repeat(41)}+${'='.repeat(24)}+${'='.repeat(22)}|`,
  ];
  for (const c of contexts) {
    const { gpu, s } = c;
    const util = s.util === null ? 'N/A' : `${s.util}%`;
    lines.push(
      row(`${String(c.index).padStart(4)}  ${gpu.name.slice(0, 29).padEnd(29)}  On`, `${gpu.pciBusId} Off `, `${s.eccUncorrected} `),
      row(
        ` N/A  ${`${s.temp}C`.padStart(4)}    ${s.pstate}${`${Math.round(s.power)}W / ${Math.round(gpu.powerLimitW)}W `.padStart(24)}`,
        `${s.memUsed}MiB / ${gpu.memoryTotalMib}MiB `,
        `${util.padStart(4)}      Default `,
      ),
      row('', '', `${s.migEnabled ? 'Enabled' : 'Disabled'} `),
      RULE,
    );
  }
  lines.push(
    '',
    WIDE,
    wideRow(' Processes:'),
    wideRow('  GPU   GI   CI        PID   Type   Process name                              GPU Memory'),
    wideRow('        ID   ID                                                               Usage'),
    `|${'='.repeat(89)}|`,
  );
  const serving = contexts.filter((c) => c.s.memUsed > c.gpu.memoryTotalMib * 0.1);
  if (serving.length === 0) lines.push(wideRow('  No running processes found'));
  for (const c of serving) {
    lines.push(
      wideRow(
        `  ${String(c.index).padStart(3)}   N/A  N/A    ${String(4000 + c.index).padStart(6)}      C   python3${`${c.s.memUsed}MiB`.padStart(44)}`,
      ),
    );
  }
  lines.push(WIDE);
  return `${lines.join('\n')}\n`;
}
