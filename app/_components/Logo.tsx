// The shop's mark: a sun rising over a cup, drawn inline so no image is fetched.
export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
      <circle cx="16" cy="15" r="7" fill="var(--sun)" />
      <path d="M5 17h22v2a9 9 0 0 1-9 9h-4a9 9 0 0 1-9-9z" fill="var(--accent)" />
      <path d="M27 19h1.5a2.5 2.5 0 0 1 0 5H26" fill="none" stroke="var(--accent)" strokeWidth="2" />
    </svg>
  );
}
