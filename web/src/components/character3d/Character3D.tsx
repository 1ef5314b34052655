"use client";

// The companion's VRM character (VRM 1.0 or 0.x, drawn by three.js and @pixiv/three-vrm): each
// frame reads the page's FaceState, the same audio-clock timeline as the SVG face, and shows it
// as expression weights. Idle life (blinking, breathing) goes first and moves only the eyes and
// the chest; speech is written after it and no expression may override the mouth, so nothing
// idle ever closes a mouth that speaks. three.js loads only when this mounts (its own chunk).
//
// The element says what it shows for tests and tools: data-state (loading, ready, failed),
// data-url, and data-expressions ("aa:0.82 happy:0.40", the weights applied this frame).
import type { VRM } from "@pixiv/three-vrm";
import { useEffect, useEffectEvent, useRef } from "react";

import type { FaceState } from "@/components/Face";

import {
  approach,
  Blinker,
  describe,
  type ExpressionMaps,
  MOUTH,
  targetWeights,
  type Weights,
} from "./expressions";

const MOUTH_NAMES = new Set<string>(MOUTH);
/** The canvas, in CSS pixels (globals.css .character3d): the box is hidden while it loads. */
const SIZE = [240, 280] as const;

export function Character3D({
  url,
  maps,
  read,
  onState,
}: {
  url: string;
  maps: ExpressionMaps;
  read: () => FaceState;
  /** "ready" once the character is drawn, "failed" when it cannot be (the page falls back). */
  onState: (state: "ready" | "failed") => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const readNow = useEffectEvent(read);
  const mapsNow = useEffectEvent(() => maps);
  const report = useEffectEvent(onState);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    let stopped = false;
    let frame = 0;
    let cleanup = () => {};
    element.dataset.state = "loading";

    const fail = (reason: unknown) => {
      if (stopped) return;
      console.warn("[character3d] falling back to the 2D face:", reason);
      element.dataset.state = "failed";
      report("failed");
    };

    (async () => {
      const THREE = await import("three");
      const { GLTFLoader } = await import("three/examples/jsm/loaders/GLTFLoader.js");
      const { VRMLoaderPlugin, VRMUtils } = await import("@pixiv/three-vrm");
      if (stopped) return;

      const [width, height] = SIZE;
      const renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true });
      renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
      renderer.setSize(width, height);
      renderer.outputColorSpace = THREE.SRGBColorSpace;
      const scene = new THREE.Scene();
      scene.add(new THREE.HemisphereLight(0xffffff, 0x8a7f99, 1.6));
      const sun = new THREE.DirectionalLight(0xffffff, 1.8);
      sun.position.set(0.6, 1.5, 2);
      scene.add(sun);
      const camera = new THREE.PerspectiveCamera(28, width / height, 0.05, 20);
      cleanup = () => renderer.dispose();

      const loader = new GLTFLoader();
      loader.register((parser) => new VRMLoaderPlugin(parser));
      const gltf = await loader.loadAsync(url);
      const vrm = gltf.userData.vrm as VRM | undefined;
      if (!vrm?.expressionManager) throw new Error(`${url} is not a VRM with expressions`);
      if (stopped) {
        VRMUtils.deepDispose(gltf.scene);
        return;
      }
      VRMUtils.rotateVRM0(vrm); // a VRM 0.x model faces -Z: turn it to the camera
      // Speech owns the mouth: an expression the model made to override it (a grin, a blink)
      // would freeze the mouth mid-reply. Emotions are capped and eased off while speaking.
      for (const expression of vrm.expressionManager.expressions) expression.overrideMouth = "none";
      scene.add(vrm.scene);
      vrm.update(0);

      // Frame the head and shoulders: the head bone is at the base of the skull.
      const head = vrm.humanoid.getNormalizedBoneNode("head");
      const face = new THREE.Vector3();
      head?.getWorldPosition(face);
      face.y += 0.07;
      camera.position.set(face.x, face.y, face.z + 0.85);
      camera.lookAt(face);
      element.prepend(renderer.domElement);
      cleanup = () => {
        renderer.domElement.remove();
        VRMUtils.deepDispose(vrm.scene);
        renderer.dispose();
      };

      const chest =
        vrm.humanoid.getNormalizedBoneNode("chest") ?? vrm.humanoid.getNormalizedBoneNode("spine");
      const blinker = new Blinker();
      const shown: Weights = {};
      const timer = new THREE.Timer();
      let said = "";
      let first = true;
      const draw = (timestamp: number) => {
        timer.update(timestamp);
        const dt = Math.min(timer.getDelta(), 0.1);
        const t = timer.getElapsed();
        const manager = vrm.expressionManager!;
        // Idle first: breathing on the chest (4 s a breath), a little sway of the head.
        if (chest) chest.rotation.x = Math.sin((t * 2 * Math.PI) / 4) * 0.012;
        if (head) head.rotation.y = Math.sin(t * 0.4) * 0.04;
        const blink = blinker.weight(t);
        manager.setValue("blink", blink);
        // Then the reply: mouth and mood, eased, written last.
        approach(shown, targetWeights(readNow(), mapsNow()), dt, MOUTH_NAMES);
        for (const [name, weight] of Object.entries(shown)) manager.setValue(name, weight);
        vrm.update(dt);
        renderer.render(scene, camera);
        const now = describe({ ...shown, blink });
        if (now !== said) element.dataset.expressions = said = now;
        if (first) {
          first = false;
          element.dataset.state = "ready";
          report("ready");
        }
        frame = requestAnimationFrame(draw);
      };
      frame = requestAnimationFrame(draw);
    })().catch(fail);

    return () => {
      stopped = true;
      cancelAnimationFrame(frame);
      cleanup();
    };
  }, [url]);

  return (
    <div
      ref={box}
      className="character3d"
      data-testid="character3d"
      data-url={url}
      role="img"
      aria-label="Companion character"
    />
  );
}
