// A labelled text input with its hint or its error underneath, wired for screen readers.
"use client";

import type { Ref } from "react";
import styles from "./TextField.module.css";

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
  required?: boolean;
  /** The input itself, so a form can move focus to the first field that needs fixing. */
  ref?: Ref<HTMLInputElement>;
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
  required,
  ref,
}: Props) {
  const id = `field-${name}`;
  const noteId = `${id}-note`;
  const note = error ?? hint;
  return (
    <div className={styles.field}>
      <label htmlFor={id}>{label}</label>
      <input
        ref={ref}
        id={id}
        name={name}
        type={type}
        autoComplete={autoComplete}
        value={value}
        disabled={disabled}
        required={required}
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
