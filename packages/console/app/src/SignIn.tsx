import { Alert, Button, Center, Group, Paper, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConsoleApi } from '@rapport/console-sdk';
import { LanguageSwitch } from './LanguageSwitch.js';
import { fetchMe } from './session.js';

export function SignIn({ api }: { api: ConsoleApi }) {
  const { t } = useTranslation('console');
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { response } = await api.client.POST('/api/v1/auth/session', { body: { email, password } });
      if (response.status === 429) setError(t('signIn.throttled'));
      else if (!response.ok) setError(t('signIn.wrong'));
      else queryClient.setQueryData(['session'], await fetchMe(api));
    } catch {
      setError(t('signIn.offline'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" radius="md" w="100%" maw={400}>
        <form onSubmit={submit}>
          <Stack>
            <Group justify="space-between" wrap="nowrap">
              <Title order={1} size="h2">
                {t('signIn.title')}
              </Title>
              <LanguageSwitch />
            </Group>
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <TextInput label={t('signIn.email')} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
            <PasswordInput
              label={t('signIn.password')}
              visibilityToggleButtonProps={{ 'aria-label': t('signIn.showPassword') }}
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
            <Button type="submit" loading={busy} fullWidth>
              {t('signIn.submit')}
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
