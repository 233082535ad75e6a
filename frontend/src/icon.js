// The aircraft symbol, drawn once on a canvas: white, so that deck.gl colours it by party (mask).

export function planeAtlas() {
  const size = 64;
  const c = document.createElement("canvas");
  c.width = c.height = size;
  const g = c.getContext("2d");
  g.translate(size / 2, size / 2);
  g.scale(size / 32, size / 32);
  g.fillStyle = "#fff";
  g.strokeStyle = "rgba(255,255,255,0.9)";
  g.beginPath(); // nose up: deck.gl turns it to the track
  g.moveTo(0, -14); g.lineTo(1.8, -9); g.lineTo(1.8, -3); g.lineTo(13, 3); g.lineTo(13, 5.5); g.lineTo(1.8, 2.5);
  g.lineTo(1.6, 9); g.lineTo(5, 12); g.lineTo(5, 14); g.lineTo(0, 12.5); g.lineTo(-5, 14); g.lineTo(-5, 12);
  g.lineTo(-1.6, 9); g.lineTo(-1.8, 2.5); g.lineTo(-13, 5.5); g.lineTo(-13, 3); g.lineTo(-1.8, -3); g.lineTo(-1.8, -9);
  g.closePath();
  g.fill();
  return { url: c.toDataURL("image/png"), mapping: { plane: { x: 0, y: 0, width: size, height: size, mask: true } } };
}
