// The 3-D view: the section's GLB with parts coloured by inspection status, and one pin
// per annotation at its anchor. Anchors are in the section frame (z up, metres); the
// GLB from `arinspect export gltf` has a root node (extras.frame == "section") that maps
// the section frame into glTF's y-up frame, so pins are children of that node.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

export const PART_COLOURS = {
  present: '#43a047', missing: '#e53935', misplaced: '#fb8c00', not_verified: '#8d99a6',
  not_inspected: '#c5ced6', structure: '#9aa5b1',
};
export const PIN_COLOURS = {
  open: '#c62828', in_progress: '#ef6c00', resolved: '#d4b106', verified: '#2e7d32',
  rejected: '#6a1b9a', closed: '#546e7a',
};
const OTHER_STATUS_COLOUR = '#7b1fa2';
const MISSING_OPACITY = 0.35;

export class SectionScene {
  constructor(canvas, onPick) {
    this.canvas = canvas;
    this.onPick = onPick;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color('#e9eef3');
    this.scene.add(new THREE.HemisphereLight('#ffffff', '#5b6875', 2.0));
    const sun = new THREE.DirectionalLight('#ffffff', 1.5);
    sun.position.set(5, 10, 7);
    this.scene.add(sun);
    this.camera = new THREE.PerspectiveCamera(50, 1, 0.01, 1000);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.addEventListener('change', () => this.requestRender());
    this.parts = new Map();
    this.pins = new Map();
    this.pinGeometry = new THREE.SphereGeometry(1, 12, 8);
    this.pinMaterials = new Map();
    this.pinRadius = 0.03;
    this.model = null;
    this.pinGroup = new THREE.Group();
    this.raycaster = new THREE.Raycaster();
    this.renderPending = false;
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.listenForPicks();
    this.resize();
  }

  resize() {
    const { clientWidth: width, clientHeight: height } = this.canvas;
    if (!width || !height) return;
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.requestRender();
  }

  requestRender() {
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame(() => {
      this.renderPending = false;
      this.renderer.render(this.scene, this.camera);
    });
  }

  renderNow() {
    this.renderer.render(this.scene, this.camera);
  }

  async loadModel(buffer) {
    const gltf = await new GLTFLoader().parseAsync(buffer, '');
    if (this.model) this.scene.remove(this.model);
    this.model = gltf.scene;
    this.scene.add(this.model);
    let sectionRoot = null;
    this.model.traverse((object) => {
      if (!sectionRoot && object.userData.frame === 'section') sectionRoot = object;
    });
    if (!sectionRoot) {  // a foreign GLB: assume the section frame, z up
      sectionRoot = new THREE.Group();
      sectionRoot.rotation.x = -Math.PI / 2;
      this.model.add(sectionRoot);
    }
    sectionRoot.add(this.pinGroup);
    this.parts = collectParts(this.model);
    this.frameCamera();
    return this.parts;
  }

  frameCamera() {
    const box = new THREE.Box3().setFromObject(this.model);
    const sphere = box.getBoundingSphere(new THREE.Sphere());
    const radius = Math.max(sphere.radius, 0.1);
    this.pinRadius = THREE.MathUtils.clamp(radius * 0.008, 0.01, 0.05);
    const direction = new THREE.Vector3(1, 0.8, 1.2).normalize();
    this.camera.position.copy(sphere.center).addScaledVector(direction, radius * 2.2);
    this.camera.near = radius / 100;
    this.camera.far = radius * 20;
    this.camera.updateProjectionMatrix();
    this.controls.target.copy(sphere.center);
    this.controls.update();
  }

  // statusOf(partId) -> status string; colours every part's meshes.
  colourParts(statusOf) {
    for (const [partId, part] of this.parts) {
      const status = statusOf(partId);
      const colour = PART_COLOURS[status] ?? OTHER_STATUS_COLOUR;
      for (const material of part.materials) {
        material.color.set(colour);
        material.transparent = status === 'missing';
        material.opacity = status === 'missing' ? MISSING_OPACITY : 1;
        material.depthWrite = status !== 'missing';
        material.needsUpdate = true;
      }
      part.status = status;
    }
    this.requestRender();
  }

  pinMaterial(status) {
    if (!this.pinMaterials.has(status)) {
      const colour = PIN_COLOURS[status] ?? OTHER_STATUS_COLOUR;
      this.pinMaterials.set(status, new THREE.MeshBasicMaterial({ color: colour, depthTest: false }));
    }
    return this.pinMaterials.get(status);
  }

  setPins(annotations) {
    for (const pin of this.pins.values()) this.pinGroup.remove(pin);
    this.pins.clear();
    for (const annotation of annotations) this.upsertPin(annotation);
    this.requestRender();
  }

  upsertPin(annotation) {
    const point = annotation.anchor?.point_section;
    let pin = this.pins.get(annotation.id);
    if (!point) {
      if (pin) this.pinGroup.remove(pin);
      this.pins.delete(annotation.id);
      return;
    }
    if (!pin) {
      pin = new THREE.Mesh(this.pinGeometry, this.pinMaterial(annotation.status));
      pin.renderOrder = 10;
      pin.userData.annotationId = annotation.id;
      this.pins.set(annotation.id, pin);
      this.pinGroup.add(pin);
    }
    pin.material = this.pinMaterial(annotation.status);
    pin.position.set(point[0], point[1], point[2]);
    pin.scale.setScalar(this.pinRadius * (pin.userData.selected ? 1.8 : 1));
    pin.visible = annotation.visible !== false;
    this.requestRender();
  }

  select(annotationId) {
    for (const [id, pin] of this.pins) {
      pin.userData.selected = id === annotationId;
      pin.scale.setScalar(this.pinRadius * (pin.userData.selected ? 1.8 : 1));
    }
    this.requestRender();
  }

  // Screen position (CSS pixels in the canvas) of a pin, for tests and tooltips.
  pinScreenPosition(annotationId) {
    const pin = this.pins.get(annotationId);
    if (!pin) return null;
    const p = pin.getWorldPosition(new THREE.Vector3()).project(this.camera);
    return { x: (p.x + 1) / 2 * this.canvas.clientWidth, y: (1 - p.y) / 2 * this.canvas.clientHeight };
  }

  listenForPicks() {
    let down = null;
    this.canvas.addEventListener('pointerdown', (e) => { down = [e.clientX, e.clientY]; });
    this.canvas.addEventListener('pointerup', (e) => {
      if (!down || Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 4) return;
      const rect = this.canvas.getBoundingClientRect();
      const ndc = new THREE.Vector2(
        ((e.clientX - rect.left) / rect.width) * 2 - 1,
        -((e.clientY - rect.top) / rect.height) * 2 + 1,
      );
      this.raycaster.setFromCamera(ndc, this.camera);
      const visiblePins = [...this.pins.values()].filter((pin) => pin.visible);
      const pinHit = this.raycaster.intersectObjects(visiblePins, false)[0];
      if (pinHit) { this.onPick({ annotationId: pinHit.object.userData.annotationId }); return; }
      const partHit = this.model && this.raycaster.intersectObject(this.model, true)
        .find((hit) => hit.object.userData.partIdOfMesh);
      if (partHit) this.onPick({ partId: partHit.object.userData.partIdOfMesh });
    });
  }
}

// Parts are the nodes whose extras name a part_id (GLTFLoader puts extras in userData).
function collectParts(model) {
  const parts = new Map();
  model.traverse((object) => {
    const partId = object.userData.part_id;
    if (typeof partId !== 'string' || parts.has(partId)) return;
    const materials = [];
    object.traverse((child) => {
      if (!child.isMesh) return;
      child.material = Array.isArray(child.material)
        ? child.material.map((m) => m.clone()) : child.material.clone();
      materials.push(...[child.material].flat());
      child.userData.partIdOfMesh = partId;
    });
    parts.set(partId, { object, materials, cls: object.userData.class ?? '', status: null });
  });
  return parts;
}
