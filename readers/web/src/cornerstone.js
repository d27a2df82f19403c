// One-time initialisation of Cornerstone3D (core rendering, the DICOM image loader for wadouri: image ids, and
// the tools library with the tools the workstation uses). Everything else imports Cornerstone from here so the
// init order (core → loader → tools) is guaranteed once.
import * as core from '@cornerstonejs/core';
import { init as dicomImageLoaderInit } from '@cornerstonejs/dicom-image-loader';
import * as tools from '@cornerstonejs/tools';

let ready = null;

export const TOOL = {
  windowLevel: tools.WindowLevelTool.toolName,
  pan: tools.PanTool.toolName,
  zoom: tools.ZoomTool.toolName,
  scroll: tools.StackScrollTool.toolName,
  length: tools.LengthTool.toolName,
  bidirectional: tools.BidirectionalTool.toolName,
};

/** Initialises Cornerstone3D once; resolves when viewports can be created. */
export function initCornerstone() {
  if (!ready) {
    ready = (async () => {
      core.init();
      // One decode worker: the machine readers use is small, and decode is not the bottleneck for a stack.
      dicomImageLoaderInit({ maxWebWorkers: Math.max(1, Math.min(2, navigator.hardwareConcurrency || 1)) });
      tools.init();
      for (const T of [
        tools.WindowLevelTool,
        tools.PanTool,
        tools.ZoomTool,
        tools.StackScrollTool,
        tools.LengthTool,
        tools.BidirectionalTool,
      ]) {
        tools.addTool(T);
      }
    })();
  }
  return ready;
}

export { core, tools };

// Ends any drag in progress on these elements and clears Cornerstone's global interaction flags. A screen torn
// down while the mouse button is held (a link followed, the session ended) would otherwise leave the flag
// "interacting with a tool" set, and every mouse tool and the wheel of every later screen ignored until a
// reload. Call it before the screen's tool group and rendering engine are destroyed.
export function endInteractions(elements) {
  for (const el of elements) {
    try {
      if (el) tools.cancelActiveManipulations(el);
    } catch { /* the element is already unknown to Cornerstone: the flags below are reset anyway */ }
  }
  tools.state.isInteractingWithTool = false;
  tools.state.isMultiPartToolActive = false;
}
