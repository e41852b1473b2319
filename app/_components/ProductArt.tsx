// Product pictures drawn locally: a small flat illustration per `artMotif`, tinted by `artHue`.
// No images are fetched; an unknown motif falls back to a plain parcel.
import type { ReactNode } from "react";

interface Palette {
  base: string;
  dark: string;
  light: string;
  paper: string;
}

function palette(hue: number): Palette {
  return {
    base: `hsl(${hue} 38% 54%)`,
    dark: `hsl(${hue} 34% 36%)`,
    light: `hsl(${hue} 46% 80%)`,
    paper: `hsl(${hue} 40% 97%)`,
  };
}

type Motif = (c: Palette) => ReactNode;

const motifs: Record<string, Motif> = {
  mug: (c) => (
    <>
      <path d="M146 82a20 20 0 0 1 0 40" fill="none" stroke={c.dark} strokeWidth="9" strokeLinecap="round" />
      <rect x="78" y="64" width="72" height="78" rx="12" fill={c.base} />
      <rect x="78" y="64" width="72" height="12" rx="6" fill={c.dark} />
      <rect x="88" y="86" width="10" height="40" rx="5" fill={c.light} opacity="0.55" />
      <path
        d="M102 54c-6-8 6-12 0-22M118 54c-6-8 6-12 0-22"
        fill="none"
        stroke={c.dark}
        strokeWidth="3"
        strokeLinecap="round"
        opacity="0.35"
      />
    </>
  ),
  cup: (c) => (
    <>
      {[78, 162].map((cx) => (
        <g key={cx}>
          <ellipse cx={cx} cy="138" rx="34" ry="7" fill={c.dark} />
          <path d={`M${cx - 24} 96h48l-6 36a6 6 0 0 1-6 5h-24a6 6 0 0 1-6-5z`} fill={c.base} />
          <path d={`M${cx + 23} 104a10 10 0 0 1 0 20`} fill="none" stroke={c.dark} strokeWidth="6" />
          <ellipse cx={cx} cy="96" rx="24" ry="5" fill={c.dark} />
          <rect x={cx - 16} y="104" width="6" height="24" rx="3" fill={c.light} opacity="0.55" />
        </g>
      ))}
    </>
  ),
  bag: (c) => (
    <>
      <path d="M98 70a22 22 0 0 1 44 0" fill="none" stroke={c.dark} strokeWidth="7" strokeLinecap="round" />
      <path d="M78 70h84l8 72H70z" fill={c.base} />
      <path d="M78 70h84l1 9H77z" fill={c.dark} />
      <rect x="96" y="94" width="48" height="30" rx="4" fill={c.paper} />
      <rect x="104" y="102" width="32" height="4" rx="2" fill={c.dark} opacity="0.6" />
      <rect x="108" y="111" width="24" height="4" rx="2" fill={c.base} opacity="0.7" />
    </>
  ),
  box: (c) => (
    <>
      <rect x="70" y="84" width="100" height="58" rx="4" fill={c.base} />
      <rect x="64" y="68" width="112" height="22" rx="5" fill={c.dark} />
      <rect x="100" y="102" width="40" height="24" rx="3" fill={c.paper} />
      <circle cx="120" cy="114" r="5" fill={c.base} />
      <rect x="70" y="90" width="100" height="4" fill={c.dark} opacity="0.25" />
    </>
  ),
  bottle: (c) => (
    <>
      <rect x="106" y="36" width="28" height="16" rx="4" fill={c.dark} />
      <path
        d="M110 52h20v10c14 6 20 16 20 30v42a8 8 0 0 1-8 8h-44a8 8 0 0 1-8-8V92c0-14 6-24 20-30z"
        fill={c.base}
      />
      <path d="M90 96h60v8H90z" fill={c.dark} opacity="0.35" />
      <rect x="98" y="110" width="8" height="26" rx="4" fill={c.light} opacity="0.55" />
    </>
  ),
  notebook: (c) => (
    <g transform="rotate(-6 120 100)">
      <rect x="76" y="44" width="88" height="110" rx="6" fill={c.dark} />
      <rect x="80" y="46" width="84" height="106" rx="5" fill={c.base} />
      <rect x="146" y="44" width="6" height="110" fill={c.dark} opacity="0.7" />
      <rect x="94" y="70" width="40" height="16" rx="3" fill={c.paper} />
      {[0, 1, 2, 3].map((row) =>
        [0, 1, 2, 3].map((col) => (
          <circle key={`${row}-${col}`} cx={98 + col * 10} cy={104 + row * 10} r="1.6" fill={c.light} />
        )),
      )}
    </g>
  ),
  pen: (c) => (
    <g transform="rotate(-35 120 96)">
      <rect x="52" y="88" width="120" height="16" rx="8" fill={c.base} />
      <path d="M172 88l26 8-26 8z" fill={c.dark} />
      <rect x="66" y="84" width="40" height="5" rx="2.5" fill={c.dark} />
      <rect x="52" y="88" width="22" height="16" rx="8" fill={c.dark} />
      <rect x="84" y="92" width="70" height="3" rx="1.5" fill={c.light} opacity="0.6" />
    </g>
  ),
  candle: (c) => (
    <>
      <path d="M120 38c10 12 10 22 0 26-10-4-10-14 0-26z" fill="hsl(42 95% 62%)" />
      <path d="M120 50c4 6 4 10 0 12-4-2-4-6 0-12z" fill="hsl(40 100% 88%)" />
      <rect x="118.5" y="62" width="3" height="10" fill={c.dark} />
      <rect x="90" y="72" width="60" height="70" rx="6" fill={c.base} />
      <path d="M90 78h60v8c0 5-6 5-6 0s-7-5-7 2-8 7-8 0-8-7-8-1-7 6-7 0-8-7-8-1-6 6-6 0z" fill={c.light} />
      <rect x="98" y="94" width="7" height="38" rx="3.5" fill={c.light} opacity="0.45" />
    </>
  ),
  lamp: (c) => (
    <>
      <path d="M92 42h56l16 44H76z" fill={c.light} />
      <path d="M92 42h56l2 6H90z" fill={c.base} opacity="0.6" />
      <rect x="116" y="86" width="8" height="44" fill={c.dark} />
      <rect x="88" y="130" width="64" height="12" rx="6" fill={c.dark} />
      <ellipse cx="120" cy="92" rx="30" ry="4" fill="hsl(45 100% 80%)" opacity="0.8" />
    </>
  ),
  plant: (c) => (
    <>
      <ellipse cx="98" cy="74" rx="12" ry="28" transform="rotate(-35 98 74)" fill={c.base} />
      <ellipse cx="142" cy="70" rx="12" ry="30" transform="rotate(32 142 70)" fill={c.dark} />
      <ellipse cx="120" cy="62" rx="11" ry="30" fill={c.base} />
      <ellipse cx="108" cy="90" rx="9" ry="20" transform="rotate(-60 108 90)" fill={c.dark} />
      <path d="M86 100h68l-8 42H94z" fill="hsl(18 48% 52%)" />
      <rect x="82" y="96" width="76" height="12" rx="4" fill="hsl(18 44% 42%)" />
    </>
  ),
};

const fallback: Motif = motifs.box ?? (() => null);

export function ProductArt({ hue, motif, className }: { hue: number; motif: string; className?: string }) {
  const colors = palette(hue);
  const draw = motifs[motif] ?? fallback;
  return (
    <svg
      className={className}
      viewBox="0 0 240 180"
      aria-hidden="true"
      focusable="false"
      preserveAspectRatio="xMidYMid meet"
    >
      <rect width="240" height="180" fill={`hsl(${hue} 32% 92%)`} />
      <circle cx="196" cy="34" r="54" fill={`hsl(${hue} 36% 88%)`} />
      <ellipse cx="120" cy="146" rx="70" ry="8" fill={`hsl(${hue} 24% 80%)`} />
      {draw(colors)}
    </svg>
  );
}
