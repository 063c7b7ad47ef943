import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { artifactDirectory, safeArtifactFilePath } from './artifact-storage';

const root = path.resolve('/srv/fleetplane/artifacts/t1/deepseek-ai--V4/abc');

describe('artifactDirectory', () => {
  it('reads the directory of a file: URL and nothing else', () => {
    expect(artifactDirectory(pathToFileURL(root).href)).toBe(root);
    expect(artifactDirectory('file:///srv/with%20space/a')).toBe('/srv/with space/a');
    expect(artifactDirectory('s3://bucket/key')).toBeNull();
    expect(artifactDirectory('file://remote-host/share')).toBeNull();
  });
});

describe('safeArtifactFilePath', () => {
  it('joins manifest paths inside the directory', () => {
    expect(safeArtifactFilePath(root, 'config.json')).toBe(`${root}/config.json`);
    expect(safeArtifactFilePath(root, 'sub/dir/model-00001-of-00002.safetensors')).toBe(`${root}/sub/dir/model-00001-of-00002.safetensors`);
    expect(safeArtifactFilePath(`${root}/`, 'a..b')).toBe(`${root}/a..b`);
  });

  it('refuses anything that could leave the directory or is not a plain relative path', () => {
    for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a/..', './a', 'a//b', 'a/', 'a\\..\\b', 'a\0b', '..', '.'])
      expect(safeArtifactFilePath(root, bad), JSON.stringify(bad)).toBeNull();
  });
});
