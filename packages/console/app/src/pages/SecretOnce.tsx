import { Alert, Code, CopyButton, Button, Group, Text } from '@mantine/core';
import { useT } from '@rapport/console-sdk';

/**
 * A secret the server shows once: displayed with a copy button, gone when the page is left.
 * An API key's token is kept only as a hash; a webhook's signing secret cannot be (deliveries
 * are signed with it), so the server keeps it encrypted — the text says which.
 */
export function SecretOnce({ secret, onDone, kept = 'hash' }: { secret: string; onDone: () => void; kept?: 'hash' | 'sealed' }) {
  const t = useT();
  return (
    // The title in the text colour: Mantine's yellow on its light yellow fails the contrast check.
    <Alert color="yellow" title={t('secret.title')} data-testid="secret-once" styles={{ title: { color: 'var(--mantine-color-text)' } }}>
      <Text size="sm" mb="xs">
        {t(kept === 'hash' ? 'secret.body' : 'secret.bodySealed')}
      </Text>
      <Code block translate="no" style={{ overflowWrap: 'anywhere', whiteSpace: 'pre-wrap' }}>
        {secret}
      </Code>
      <Group mt="xs">
        <CopyButton value={secret}>
          {({ copied, copy }) => (
            <Button size="xs" variant="light" onClick={copy}>
              {copied ? t('secret.copied') : t('secret.copy')}
            </Button>
          )}
        </CopyButton>
        <Button size="xs" variant="subtle" onClick={onDone}>
          {t('secret.done')}
        </Button>
      </Group>
    </Alert>
  );
}
