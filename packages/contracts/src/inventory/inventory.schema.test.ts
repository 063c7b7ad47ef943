import { describe, expect, it } from 'vitest';
import { ZClusterFields } from './cluster.schema';
import { ZGpuFields } from './gpu.schema';
import { ZNodeFields } from './node.schema';

const cluster = {
  name: 'flash-h100-vllm',
  siteId: 's1',
  servingEngine: 'vllm',
  engineVersion: '0.11.2',
  maxContextTokens: 131072,
  gpuHourlyCostUsd: 2.5,
};

function issues(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) {
  return Object.fromEntries((result.error?.issues ?? []).map((i) => [i.path.join('.'), i.message]));
}

describe('cluster fields', () => {
  it('accepts a realistic cluster and fills defaults', () => {
    const parsed = ZClusterFields.parse(cluster);
    expect(parsed).toMatchObject({
      description: '',
      endpointUrl: null,
      endpointApiKeyRef: null,
      validationConcurrencyCap: 16,
      downloadConcurrency: null,
      downloadBandwidthMbps: null,
    });
  });

  it('takes optional download limits (null = not limited) and refuses nonsense', () => {
    expect(ZClusterFields.parse({ ...cluster, downloadConcurrency: 2, downloadBandwidthMbps: 1000 })).toMatchObject({
      downloadConcurrency: 2,
      downloadBandwidthMbps: 1000,
    });
    expect(issues(ZClusterFields.safeParse({ ...cluster, downloadConcurrency: 0, downloadBandwidthMbps: 2.5 }))).toEqual({
      downloadConcurrency: 'At least 1 file at once',
      downloadBandwidthMbps: 'Whole Mbit/s only',
    });
    expect(issues(ZClusterFields.safeParse({ ...cluster, downloadConcurrency: 65, downloadBandwidthMbps: 0 }))).toEqual({
      downloadConcurrency: 'At most 64 files at once',
      downloadBandwidthMbps: 'At least 1 Mbit/s',
    });
  });

  it('names each bad field with a message a person can act on', () => {
    const r = ZClusterFields.safeParse({
      ...cluster,
      name: 'Bad Name',
      engineVersion: 'latest',
      endpointUrl: 'ftp://x',
      endpointApiKeyRef: 'sk-live-123',
      maxContextTokens: 2_000_000,
      gpuHourlyCostUsd: -1,
    });
    expect(issues(r)).toEqual({
      name: 'Use lower-case letters, digits and dashes (like a DNS label)',
      engineVersion: 'Use a version such as 0.11.2 or b6123',
      endpointUrl: 'Only http:// and https:// endpoints are supported',
      endpointApiKeyRef: 'Secret references are environment variable names such as VLLM_API_KEY',
      maxContextTokens: 'DeepSeek V4 serves at most 1,048,576 tokens',
      gpuHourlyCostUsd: 'Cost cannot be negative',
    });
  });

  it('accepts llama.cpp build numbers as engine versions', () => {
    expect(ZClusterFields.safeParse({ ...cluster, servingEngine: 'llamacpp', engineVersion: 'b6123' }).success).toBe(true);
  });
});

describe('node and GPU fields', () => {
  it('validates hostnames and addresses', () => {
    expect(ZNodeFields.safeParse({ clusterId: 'c', hostname: 'gpu-node-01.dc1', ipAddress: '10.0.0.5' }).success).toBe(true);
    expect(issues(ZNodeFields.safeParse({ clusterId: 'c', hostname: 'bad host', ipAddress: '999.1.1.1' }))).toEqual({
      hostname: 'Enter a valid hostname such as gpu-node-01',
      ipAddress: 'Enter a valid IPv4 or IPv6 address',
    });
  });

  it('requires the NVML UUID format and a PCI bus id', () => {
    const gpu = {
      nodeId: 'n',
      uuid: 'GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      index: 0,
      model: 'NVIDIA H100 80GB HBM3',
      memoryMib: 81559,
      interconnect: 'nvswitch',
      pciBusId: '00000000:18:00.0',
    };
    expect(ZGpuFields.safeParse(gpu).success).toBe(true);
    expect(Object.keys(issues(ZGpuFields.safeParse({ ...gpu, uuid: 'GPU-123', pciBusId: '18:00' })))).toEqual(['uuid', 'pciBusId']);
  });
});
