// The launcher's chat bubble, drawn the same by main.tsx (without React) and by Widget.
export const chatIconPath = "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z";
