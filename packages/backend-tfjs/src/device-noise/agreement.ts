import { deviceNoiseAgreement as compareWithCore, type DeviceNoiseAgreement } from '@saliency/core';
import { philoxWordsOnDevice, standardNormalsOnDevice } from './programs.js';

export type { DeviceNoiseAgreement };

/** How the active TF.js backend's device noise agrees with core's generator (core's `deviceNoiseAgreement`). */
export function deviceNoiseAgreement(): Promise<DeviceNoiseAgreement> {
  return compareWithCore({ philoxWords: philoxWordsOnDevice, standardNormals: standardNormalsOnDevice });
}
