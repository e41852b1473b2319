// A labelled text input with its hint or its error underneath, wired for screen readers.
"use client";

interface Props {
  name: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
  hint?: string;
  type?: "text" | "email" | "password";
  autoComplete?: string;
  disabled?: boolean;
}

export function TextField({
  name,
  label,
  value,
  onChange,
  error,
  hint,
  type = "text",
  autoComplete,
  disabled,
}: Props) {
  const id = `field-${name}`;
  const noteId = `${id}-note`;
  const note = error ?? hint;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type}
        autoComplete={autoComplete}
        value={value}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={note ? noteId : undefined}
        onChange={(event) => onChange(event.target.value)}
      />
      {note && (
        <p id={noteId} className={error ? "field-error" : "hint"}>
          {note}
        </p>
      )}
    </div>
  );
}
