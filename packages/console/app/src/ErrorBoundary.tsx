import { Alert } from '@mantine/core';
import { Component, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

function Failed({ error }: { error: Error }) {
  const { t } = useTranslation('console');
  return (
    <Alert color="red" title={t('error.title')} role="alert">
      {t('error.body', { message: error.message })}
    </Alert>
  );
}

/** Keeps a failing page or widget from blanking the rest of the console. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  render() {
    return this.state.error ? <Failed error={this.state.error} /> : this.props.children;
  }
}
