import { useEffect } from 'react';

/** "Incidents – Haven": each page names itself for tabs, history and screen readers. */
export const useDocumentTitle = (title: string | null): void => {
  useEffect(() => {
    document.title = title ? `${title} – Haven` : 'Haven';
  }, [title]);
};
