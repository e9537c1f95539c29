import path from 'node:path';

/**
 * File extensions treated as images when scanning folders. Everything sharp (libvips) decodes,
 * plus `.bmp` through this package's own decoder (sharp has no BMP reader).
 */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.bmp', '.avif', '.heic', '.heif'];

export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}
