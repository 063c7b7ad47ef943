export * from './float-formats';
export * from './fp8-block';
export * from './ggml-quants';
export * from './mlx-affine';
export * from './quality';
