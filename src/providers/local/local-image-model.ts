/** The NSFWJS models bundled in the nsfwjs package (kept apart so configuration can name them without loading TensorFlow.js). */
export const localImageModels = ['MobileNetV2', 'MobileNetV2Mid', 'InceptionV3'] as const;
export type LocalImageModel = (typeof localImageModels)[number];
